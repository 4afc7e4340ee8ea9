"""Pure rules: no telegram, no database, time passed in explicitly."""
