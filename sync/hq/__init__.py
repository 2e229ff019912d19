"""HQ: receives every branch's events once, reconciles the chain and sends decisions back."""
