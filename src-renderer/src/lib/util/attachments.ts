/** Focuses (and selects, for text fields) an element when it appears: `{@attach focusOnMount}`. */
export function focusOnMount(node: HTMLElement): void {
  node.focus();
  if (node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement) node.select();
}
