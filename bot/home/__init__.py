"""The App Home: what each person's Home shows (read from the database), and when it is
republished."""
