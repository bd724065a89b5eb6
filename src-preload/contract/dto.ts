/**
 * Data transfer objects: plain JSON, the same over IPC, WebSocket and the CLI's --json. They are
 * declared by subject in ./dto/ and imported from here (`#contract/dto`).
 */

// The closed lists' types, where the DTOs have always offered them.
export type {
  DocumentFormatName,
  DocumentReasonCode,
  DocumentStatus,
  FitVerdict,
  GpuBackend,
  JobKind,
  JobStatus,
  MessageRole,
  MessageStatus,
  ModelPurpose,
  ReceiptStatus,
  RetrievalMode,
  SearchMode,
  ThreadExportFormat,
  ThreadImportFormat,
  VaultTargetKind,
} from './vocabulary';

export type * from './dto/models';
export type * from './dto/chat';
export type * from './dto/jobs';
export type * from './dto/app';
export type * from './dto/library';
export type * from './dto/vault';
export type * from './dto/receipts';
export type * from './dto/network';
