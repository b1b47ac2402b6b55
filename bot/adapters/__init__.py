"""Platform adapters: each turns one SDK's traffic into neutral events and back."""
