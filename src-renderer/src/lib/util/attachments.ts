/** Focuses (and selects, for text fields) an element when it appears: `{@attach focusOnMount}`. */
export function focusOnMount(node: HTMLElement): void {
  node.focus();
  if (node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement) node.select();
}

/**
 * Calls `callback` once, the first time the element scrolls into view (or at once where
 * IntersectionObserver is missing): `{@attach onFirstVisible(() => ...)}`.
 */
export function onFirstVisible(callback: () => void): (node: HTMLElement) => () => void {
  return (node) => {
    if (typeof IntersectionObserver === 'undefined') {
      callback();
      return () => undefined;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        observer.disconnect();
        callback();
      },
      { rootMargin: '200px' },
    );
    observer.observe(node);
    return () => observer.disconnect();
  };
}
