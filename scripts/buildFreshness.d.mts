export declare const BUILD_INPUTS: readonly string[];
export declare const BUILD_OUTPUTS: readonly string[];
/** Why `root`'s build must be redone (a sentence), or null when out/ is newer than every input. */
export declare function staleReason(root: string): string | null;
