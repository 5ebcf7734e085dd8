"""Draft previews: signed links that show one item's current state to whoever holds them."""
