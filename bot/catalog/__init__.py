"""The guide catalog: one YAML file per one-thing, loaded and validated."""

from bot.catalog.loader import Catalog, CatalogError, check_catalog, load_catalog
from bot.catalog.models import FormField, Item, Material, OneThing, Source

__all__ = [
    "Catalog",
    "CatalogError",
    "FormField",
    "Item",
    "Material",
    "OneThing",
    "Source",
    "check_catalog",
    "load_catalog",
]
