"""hkcrawl: hankyung.com (한국경제) as clean, deduplicated JSON Lines."""

__version__ = "0.1.0"
