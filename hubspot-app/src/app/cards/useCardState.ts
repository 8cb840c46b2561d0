// The state both cards share: the first GET, the buttons' POSTs (each answers the fresh state),
// and polling GET every 3 s while the service says `busy` (work the card started still runs in
// the background). Nothing is set after the card is gone.
import { useCallback, useEffect, useRef, useState } from 'react';

export const POLL_MS = 3000;

interface Busy {
  busy: boolean;
}

export interface CardState<S extends Busy> {
  state: S | null;
  loadError: string;
  actionError: string;
  pending: boolean;
  act: (post: () => Promise<S>) => void;
}

export function useCardState<S extends Busy>(get: (() => Promise<S>) | null): CardState<S> {
  const [state, setState] = useState<S | null>(null);
  const [loadError, setLoadError] = useState('');
  const [actionError, setActionError] = useState('');
  const [pending, setPending] = useState(false);
  // Counts answers, so each busy answer schedules the next poll even when it equals the last.
  const [answers, setAnswers] = useState(0);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const load = useCallback(() => {
    if (!get) return;
    get().then(
      fresh => {
        if (!mounted.current) return;
        setState(fresh);
        setAnswers(count => count + 1);
        setLoadError('');
      },
      (error: Error) => {
        if (mounted.current) setLoadError(error.message);
      },
    );
  }, [get]);

  useEffect(load, [load]);

  // Poll while busy; a failed poll shows its error and stops (the card's state stays).
  const busy = Boolean(state?.busy);
  useEffect(() => {
    if (!busy || loadError) return undefined;
    const timer = setTimeout(load, POLL_MS);
    return () => clearTimeout(timer);
  }, [busy, answers, loadError, load]);

  const act = useCallback((post: () => Promise<S>) => {
    setPending(true);
    setActionError('');
    post().then(
      fresh => {
        if (!mounted.current) return;
        setState(fresh);
        setAnswers(count => count + 1);
        setLoadError('');
        setPending(false);
      },
      (error: Error) => {
        if (!mounted.current) return;
        setActionError(error.message);
        setPending(false);
      },
    );
  }, []);

  return { state, loadError, actionError, pending, act };
}
