/**
 * How job fields read in the UI: durations, times, sizes, status classes.
 */
import { IJob, JobStatus } from '../api';

/** `0.3s`, `45s`, `3m 05s`, `2h 01m`, or an empty string for no duration. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 9.95) {
    return `${Math.max(0, seconds).toFixed(1)}s`;
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s}s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  }
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A local date and time for epoch seconds, or an empty string. */
export function formatTime(epoch: number | null | undefined): string {
  if (epoch === null || epoch === undefined) {
    return '';
  }
  return new Date(epoch * 1000).toLocaleString();
}

/** `512 B`, `1.5 KiB`, `3.2 MiB`, ... */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** CSS class of a status badge, e.g. `jp-ContainerJob-status-SUCCEEDED`. */
export function statusClass(status: JobStatus): string {
  return `jp-ContainerJob-status jp-ContainerJob-status-${status}`;
}

/** The image without a long registry host, for narrow rows. */
export function shortImage(image: string): string {
  const parts = image.split('/');
  return parts.length > 2 ? `…/${parts.slice(-1)[0]}` : image;
}

/** The display name jobs get when none is chosen (core/models.py). */
const DEFAULT_NAME = 'containerjob';

/** The name a job goes by: its id, with a chosen display name first. */
export function jobTitle(job: IJob): string {
  const named = job.name && job.name !== job.id && job.name !== DEFAULT_NAME;
  return named ? `${job.name} (${job.id})` : job.id;
}
