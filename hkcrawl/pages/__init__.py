"""Page classes: (HTML, URL) -> fields. They know nothing of Scrapy's engine."""
