"""A real SMTP server for tests (aiosmtpd); filled in by the mail tests."""
