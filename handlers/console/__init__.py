"""The staff consoles: login (``login``), the hotline agents' console
(``agent``), the pages themselves (``pages``). Behind ``guard``: a login
cookie, a role, and a CSRF token on everything that changes something."""
