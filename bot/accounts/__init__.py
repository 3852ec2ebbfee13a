"""Console accounts: hotline agents and admins."""

from bot.accounts.users import ROLES, Account, AccountError, Accounts

__all__ = ["ROLES", "Account", "AccountError", "Accounts"]
