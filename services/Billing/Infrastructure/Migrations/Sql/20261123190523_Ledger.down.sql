-- Down of 20261123190523_Ledger, frozen with it: every function, trigger and type the ledger's migrations create, if there.

DROP FUNCTION IF EXISTS ledger_batch, ledger_cancel, ledger_capture_late, ledger_capture_batch, ledger_hold_batch, ledger_resolve, ledger_hold, ledger_debit_wallet, ledger_credit_wallet, ledger_existing;
DROP TRIGGER IF EXISTS transfers_append_only ON transfers;
DROP TRIGGER IF EXISTS transfers_no_truncate ON transfers;
DROP FUNCTION IF EXISTS ledger_transfers_append_only;
DROP TYPE IF EXISTS ledger_result;
