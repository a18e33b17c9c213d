"""Shop: what does the product in view cost, and where is it cheapest."""
