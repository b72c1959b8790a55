/** Attributes set with `setAttribute` (strings only: nothing here is ever parsed as HTML). */
export type Attrs = Record<string, string>;

/** Creates an element with attributes and children; text children become text nodes, never HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: (Node | string)[]): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Attrs, ...children: (Node | string)[]): HTMLElement;
export function el(tag: string, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}
