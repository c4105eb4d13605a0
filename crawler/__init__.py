"""The Scrapy project: one generic spider driven by a source declaration (fetch only)."""
