"""BulkRestoreModal: restore the runs of an experiment deleted since a date (dry-run count first)."""

from __future__ import annotations

from textual.widgets.button import ButtonVariant

from .bulk_delete import BulkByTimeModal, Request


class BulkRestoreModal(BulkByTimeModal):
    """Bring back the runs of an experiment deleted at or after a date (exactly those, no cascade)."""

    TITLE_TEXT = "Restore runs deleted since a date"
    DATE_LABEL = "Deleted at or after (YYYY-MM-DD is local midnight)"
    VERB_FUTURE = "will be restored"
    VERB_BUTTON = "Restore"
    BUTTON_VARIANT: ButtonVariant = "primary"  # restoring destroys nothing
    ENTER_ACTS = True  # Enter in a field restores the counted runs at once

    def operation(self, request: Request, dry_run: bool) -> int:
        """client.restore_runs (earliest deletion first)."""
        experiment_id, when, max_runs = request
        return self.client.restore_runs(experiment_id, when, max_runs=max_runs, dry_run=dry_run)
