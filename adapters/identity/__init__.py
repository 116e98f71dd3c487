"""Identity verification (身份核验) of a legal representative against a national bureau."""
