// A time-series line chart on uPlot (small, maintained, canvas): x is seconds since the epoch.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series { label: string; values: Array<number | null>; color: string }

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];
export const color = (i: number) => COLORS[i % COLORS.length]!;

export function TimeChart(props: { title: string; times: number[]; series: Series[]; unit?: string; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = props.series.map((s) => s.label).join('|');
  useEffect(() => {
    if (!box.current) return undefined;
    const opts: uPlot.Options = {
      width: Math.max(320, box.current.clientWidth || 600), height: 220,
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      axes: [{}, { label: props.unit ?? '' }],
      scales: { x: { time: true } },
    };
    plot.current = new uPlot(opts, [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData, box.current);
    return () => { plot.current?.destroy(); plot.current = null; };
  }, [labels, props.unit]);
  useEffect(() => {
    plot.current?.setData([props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.times, props.series]);
  return (
    <figure class="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {props.times.length === 0 ? <p class="empty">No samples yet: the chart fills in as the page polls.</p> : null}
      <div ref={box} />
    </figure>
  );
}
