"""The site's accounts: a custom user model, in place from the first migration."""
