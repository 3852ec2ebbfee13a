"""The parts of the conversation, one module each, each owning its states (``Flow``): identify,
guide, eligibility, shared data, form, commitment, review, progress, supplement, rating, complaint,
handover, help, and the commands said at any point. ``bot/dialogue/router.py`` gathers them."""
