/// The command and interop tests run programs with ``ChildProcess``, which lives in WIFClient (its
/// ``CommandTokenProvider`` runs commands the same way).
@_exported public import enum WIFClient.ChildProcess
