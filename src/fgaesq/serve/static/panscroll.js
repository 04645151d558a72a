// Pane scrolling shared by the annotate and review apps. Scrolls an app makes itself are remembered on the pane,
// so that their scroll events are not taken for the user's (a flag cleared on the next animation frame dropped
// real pans when frames were throttled).
window.panScroll = {
  // Scroll pane p to (left, top), clamped; remembered so that its scroll event is known as the app's own.
  set(p, left, top) {
    left = Math.max(0, Math.min(p.scrollWidth - p.clientWidth, Math.round(left)));
    top = Math.max(0, Math.min(p.scrollHeight - p.clientHeight, Math.round(top)));
    if (Math.abs(p.scrollLeft - left) < 1 && Math.abs(p.scrollTop - top) < 1) return;
    p._expect = [left, top];
    p.scrollLeft = left; p.scrollTop = top;
  },
  // True when pane p's current scroll event is one the app made with set() (and forgets it).
  own(p) {
    const e = p._expect;
    p._expect = null;
    return !!e && Math.abs(p.scrollLeft - e[0]) < 1 && Math.abs(p.scrollTop - e[1]) < 1;
  },
};
