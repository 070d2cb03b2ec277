"""Development plumbing: never imported by api/, workers/ or models/."""
