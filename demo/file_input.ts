/**
 * Files brought to the page: dropped anywhere on it (files or whole folders, whose paths keep the
 * folder names that pairing reads) or chosen with the file picker. Each gesture hands the list to
 * `onFiles` once.
 */
import type { InputFile } from './nifti_cases.js';

/** Calls `onFiles` with every file dropped on `page` or picked with `picker`; `zone` lights up during a drag. */
export function acceptFiles(
  page: HTMLElement,
  zone: HTMLElement,
  picker: HTMLInputElement,
  onFiles: (files: InputFile[]) => void,
): void {
  page.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  page.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null) zone.classList.remove('dragging');
  });
  page.addEventListener('drop', async (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    if (e.dataTransfer) onFiles(await droppedFiles(e.dataTransfer));
  });
  picker.addEventListener('change', () => {
    const files = Array.from(picker.files ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
    picker.value = '';
    if (files.length) onFiles(files);
  });
}

/** The dropped files, walking into dropped folders. */
async function droppedFiles(transfer: DataTransfer): Promise<InputFile[]> {
  // Entries must be taken before the first await: the transfer is emptied after the event.
  const entries = Array.from(transfer.items).map((item) => item.webkitGetAsEntry?.() ?? null);
  const plain = Array.from(transfer.files);
  if (entries.some((e) => e === null)) return plain.map((file) => ({ path: file.name, file }));
  const out: InputFile[] = [];
  for (const entry of entries) await walk(entry!, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: InputFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\//, ''), file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns a folder's entries in chunks, then an empty list.
  for (;;) {
    const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (chunk.length === 0) break;
    for (const child of chunk) await walk(child, out);
  }
}
