"""Weights of the trained request classifier (`classifier.npz`, written by `linli train`)."""
