"""What the branch agent and HQ share: event hashing, batch encoding and request signing."""
