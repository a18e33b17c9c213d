"""Where each piece of work runs and what it costs: model, scheduler, ledger, report."""
