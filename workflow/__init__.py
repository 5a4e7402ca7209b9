"""Pure rules: case states, authority tiers, deadlines on the working-day clock. No web, no SQL."""
