"""Camera: take a photo of what is in view into a local gallery."""
