"""The service layer: what a server process holds and keeps fresh, below the web layer."""
