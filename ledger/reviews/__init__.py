"""Reviews: which are due, those held and asked for, quarterly quality reviews, and the documents kept from them."""
