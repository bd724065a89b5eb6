// Placeholder: the sandboxed preload is being written.
export {};
