"""CMS Pricing API: Medicare Physician Fee Schedule prices from the official CMS files."""
