"""The shipped scenarios (TOML), found by name: `medcom simulate nordjylland-2024`."""
