"""Settings, grouped by concern. `cloudify.settings.base` is what runs everywhere;
`cloudify.settings.test` adds test defaults before importing it."""
