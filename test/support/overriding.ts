/**
 * `target` as its users see it, but for the methods given: every other method bound to the target
 * itself, so a class with private fields (the stores, the checkpoints) still works through it.
 */
export function overriding<T extends object>(target: T, methods: Partial<T>): T {
  return new Proxy(target, {
    get(object, key): unknown {
      if (Object.hasOwn(methods, key)) return methods[key as keyof T];
      const value: unknown = Reflect.get(object, key, object);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
