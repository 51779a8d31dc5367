package smart

// Backlog is the number of audit events accepted and not yet written: what a crash
// would lose, and a sign that the audit store cannot keep up when it grows.
func (l *AuditLog) Backlog() int { return len(l.queue) }
