// Live updates: the gateway's WebSocket, on which a front desk's socket hears every
// appointment change of its practice ("appointment.changed") and every time block
// made or deleted ("time_block.changed"), ids and times only.
// Reconnects with a growing delay; after each (re)connection `onChange(null)` asks
// for a full reload, since pushes sent while away are not replayed.

export function connectLive(api, { onChange, onStatus }) {
  let socket = null;
  let delay = 500;
  let stopped = false;
  let timer = 0;

  const open = () => {
    if (stopped) return;
    const url = `wss://${location.host}/v1/ws?access_token=${encodeURIComponent(api.accessToken)}`;
    socket = new WebSocket(url);
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === 'session.ready') {
        delay = 500;
        onStatus('Live');
        onChange(null);
      } else if (frame.type === 'appointment.changed' || frame.type === 'time_block.changed') {
        onChange(frame.body || null);
      }
    };
    socket.onclose = async (event) => {
      socket = null;
      if (stopped) return;
      onStatus('Offline, reconnecting…');
      // 4401: the access token expired or the session ended; a fresh token first.
      if (event.code === 4401) {
        try { await api.refresh(); } catch { onStatus('Signed out'); return; }
      }
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  open();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      if (socket) socket.close(1000, 'signed out');
    },
  };
}
