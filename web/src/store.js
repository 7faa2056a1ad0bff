// A small store: the console's state is one frozen object, replaced (never changed in
// place) by named actions. Each action has a reducer: a pure function of the state and
// the action that returns the slices it changes. Views subscribe and redraw what
// changed. No framework: the console needs no more than this.

/**
 * A store over `initial`, changed only through `reducers`.
 *
 * `dispatch({type, ...})` runs `reducers[type](state, action)`, which returns the
 * slices that change (an object) or null for none. Slices whose value is the same
 * object as before do not count as changed. Subscribers are called after each action
 * that changed something, with the new state and the set of changed slice names. An
 * action dispatched by a subscriber runs after the current one has reached every
 * subscriber, so each sees the actions in order.
 */
export function createStore(initial, reducers) {
  let state = Object.freeze({ ...initial });
  const listeners = new Set();
  const queue = [];
  let running = false;

  function apply(action) {
    const reducer = reducers[action?.type];
    if (!reducer) throw new Error(`unknown action: ${action?.type}`);
    const patch = reducer(state, action);
    const changed = new Set();
    if (!patch) return changed;
    for (const [key, value] of Object.entries(patch)) {
      if (!(key in state)) throw new Error(`${action.type}: unknown slice ${key}`);
      if (value !== state[key]) changed.add(key);
    }
    if (changed.size) state = Object.freeze({ ...state, ...patch });
    return changed;
  }

  return {
    get state() {
      return state;
    },
    dispatch(action) {
      queue.push(action);
      if (running) return;
      running = true;
      try {
        while (queue.length) {
          const next = queue.shift();
          const changed = apply(next);
          if (changed.size) for (const listener of [...listeners]) listener(state, changed, next);
        }
      } finally {
        running = false;
        queue.length = 0;
      }
    },
    /** Call `listener(state, changed, action)` after every change; returns the unsubscribe. */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
