"""Where a budget's money stands: its figures and weeks held, transition costs left, surplus decisions and closing at the end."""
