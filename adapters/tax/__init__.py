"""Tax filings and tax credit grade (纳税信用等级) from a tax data provider."""
