"""Ask: general questions, and reading or explaining the text in view."""
