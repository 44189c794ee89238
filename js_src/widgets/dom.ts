/**
 * Building DOM for the widgets: one element helper, so the views stay plain
 * DOM (no framework) and read as what they show.
 */

export type Child = Node | string | null | undefined | false;

export interface IProps {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  on?: Partial<Record<keyof HTMLElementEventMap, (event: Event) => void>>;
}

/**
 * `document.createElement(tag)` with classes, text, attributes, listeners and
 * children (falsy children are skipped).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: IProps = {},
  children: Child[] = []
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) {
    node.className = props.class;
  }
  if (props.text !== undefined) {
    node.textContent = props.text;
  }
  if (props.title) {
    node.title = props.title;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    node.setAttribute(name, value);
  }
  for (const [event, listener] of Object.entries(props.on ?? {})) {
    node.addEventListener(event, listener as EventListener);
  }
  for (const child of children) {
    if (child) {
      node.append(child);
    }
  }
  return node;
}

/** Replace all children of `node`. */
export function setChildren(node: Element, children: Child[]): void {
  node.replaceChildren(...(children.filter(Boolean) as (Node | string)[]));
}
