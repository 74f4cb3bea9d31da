"""Item pipelines, one job each; their order is set in ``settings.ITEM_PIPELINES``."""
