"""property: Hypothesis strategies and property tests for candle streams."""
