"""Enterprise registry (企业登记信息) lookups by Unified Social Credit Code."""
