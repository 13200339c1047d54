"""Integrations with web frameworks. Each lives in its own subpackage and optional extra
(``bookcore[django]``); the rest of bookcore never imports any of them."""
