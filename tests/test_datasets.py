"""Loading local data files: headers, errors naming the file, the line and the column, .npy and IDX
files that are not what they claim, complex values; through ``vaetheory linear`` and ``train``."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from vaetheory.cli import main
from vaetheory.datasets import load_array_file, read_idx
from vaetheory.linear.data import load_data, parse_synthetic_spec


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_first_row_with_a_bad_value_is_an_error_not_a_header(tmp_path):
    path = _write(tmp_path, "d.csv", "1,2,x\n3,4,5\n6,7,8\n9,10,11\n")
    with pytest.raises(ValueError) as info:
        load_array_file(path)
    msg = str(info.value)
    assert repr(str(path)) in msg and "line 1, column 3" in msg and "'x' is not a number" in msg


def test_a_header_is_taken_only_when_every_field_is_text_or_when_declared(tmp_path):
    path = _write(tmp_path, "d.csv", "a, b ,c\n1,2,3\n4,5,6\n")
    np.testing.assert_array_equal(load_array_file(path), [[1, 2, 3], [4, 5, 6]])
    numeric = _write(tmp_path, "e.csv", "1,2,3\n4,5,6\n7,8,9\n")
    assert load_array_file(numeric).shape == (3, 3)
    np.testing.assert_array_equal(load_array_file(numeric, header=True), [[4, 5, 6], [7, 8, 9]])
    with pytest.raises(ValueError, match=r"line 1, column 1: 'a' is not a number"):
        load_array_file(path, header=False)


def test_error_lines_are_numbered_as_an_editor_numbers_them(tmp_path):
    # header on line 1, a blank line 3 and a comment line 4: the bad value sits on line 6
    path = _write(tmp_path, "d.csv", "x,y\n1,2\n\n# a comment\n3,4\n5,oops\n")
    with pytest.raises(ValueError, match=r"line 6, column 2: 'oops' is not a number"):
        load_array_file(path)
    ragged = _write(tmp_path, "r.csv", "1,2\n3,4\n5,6,7\n")
    with pytest.raises(ValueError, match=r"line 3: 3 columns, but line 1 has 2"):
        load_array_file(ragged)
    empty = _write(tmp_path, "m.csv", "1,2\n,4\n")
    with pytest.raises(ValueError, match=r"line 2, column 1: the field is empty"):
        load_array_file(empty)


@pytest.mark.parametrize("delim,word", [(";", "semicolons"), ("\t", "tabs"), (" ", "spaces")])
def test_another_delimiter_that_would_parse_is_suggested(tmp_path, delim, word):
    path = _write(tmp_path, "d.csv", f"1{delim}2{delim}3\n4{delim}5{delim}6\n")
    with pytest.raises(ValueError, match=rf"line 1, column 1: .*separated by {word}"):
        load_array_file(path)


@pytest.mark.parametrize("value", ["1+2j", "3j"])
def test_complex_values_are_refused(tmp_path, value):
    path = _write(tmp_path, "d.csv", f"1,2\n{value},4\n")
    with pytest.raises(ValueError, match=r"line 2, column 1: .* is a complex number; only real values"):
        load_array_file(path)
    npy = tmp_path / "c.npy"
    np.save(npy, np.ones((3, 2), dtype=complex))
    with pytest.raises(ValueError, match=r"holds complex values"):
        load_array_file(npy)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_csv_values_name_the_line_and_column(tmp_path, value):
    path = _write(tmp_path, "d.csv", f"1,2\n3,4\n5,{value}\n")
    with pytest.raises(ValueError, match=r"line 3, column 2: .* is not finite"):
        load_array_file(path)


def test_a_directory_is_reported_as_a_directory_and_a_missing_file_as_missing(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"is a directory, not a file"):
        load_array_file(folder)
    with pytest.raises(ValueError, match=r"does not exist"):
        load_array_file(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match=r"is a directory"):
        read_idx(folder)


def _idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_an_idx_or_random_file_passed_as_npy_is_not_a_npy_file(tmp_path):
    idx = tmp_path / "images.npy"
    idx.write_bytes(_idx_bytes(np.arange(24).reshape(2, 3, 4)))
    with pytest.raises(ValueError, match=r"is not a \.npy file.*IDX") as info:
        load_array_file(idx)
    assert "pickle" not in str(info.value)
    junk = tmp_path / "junk.npy"
    junk.write_bytes(np.random.default_rng(0).bytes(200))
    with pytest.raises(ValueError, match=r"is not a \.npy file") as info:
        load_array_file(junk)
    assert "pickle" not in str(info.value)
    truncated = tmp_path / "t.npy"
    np.save(truncated, np.ones((50, 4)))
    truncated.write_bytes(truncated.read_bytes()[:150])
    with pytest.raises(ValueError, match=r"truncated or damaged|damaged"):
        load_array_file(truncated)
    objects = tmp_path / "o.npy"
    np.save(objects, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"object array"):
        load_array_file(objects)


def test_truncated_and_non_gzip_idx_files_are_clear_errors(tmp_path):
    good = _idx_bytes(np.arange(24).reshape(2, 3, 4))
    gz = tmp_path / "a-idx3-ubyte.gz"
    gz.write_bytes(gzip.compress(good))
    np.testing.assert_array_equal(read_idx(gz), np.arange(24).reshape(2, 3, 4))
    gz.write_bytes(gzip.compress(good)[:-12])
    with pytest.raises(ValueError, match=r"is truncated"):
        read_idx(gz)
    plain = tmp_path / "b-idx3-ubyte.gz"
    plain.write_bytes(good)
    with pytest.raises(ValueError, match=r"ends in \.gz but is not a gzip file"):
        read_idx(plain)
    short = tmp_path / "c-idx3-ubyte"
    short.write_bytes(good[:-5])
    with pytest.raises(ValueError, match=r"data bytes; its header"):
        read_idx(short)


def test_linear_cli_reports_the_bad_row_with_exit_2(tmp_path, capsys):
    path = _write(tmp_path, "d.csv", "1,2,x\n3,4,5\n6,7,8\n9,10,11\n")
    assert main(["linear", "--data", str(path), "--latent", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaetheory linear: error:") and "line 1, column 3" in err and str(path) in err
    header = _write(tmp_path, "h.csv", "1,2,3\n4,5,7\n6,7,9\n9,10,1\n")
    assert main(["linear", "--data", str(header), "--latent", "1", "--csv-header", "yes", "--json"]) == 0
    assert '"n_points": 3' in capsys.readouterr().out


def test_train_cli_reports_the_bad_row_with_exit_2(tmp_path, capsys):
    path = _write(tmp_path, "d.csv", "1,2,x\n3,4,5\n6,7,8\n9,10,11\n")
    code = main(
        ["train", "--variance", "learned", "--data", str(path), "--steps", "1", "--out", str(tmp_path / "r")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "line 1, column 3" in err and str(path) in err


def test_synthetic_sizes_are_integers_and_memory_is_checked_before_allocating():
    assert parse_synthetic_spec("synthetic:n=5e2")["n"] == 500
    with pytest.raises(ValueError, match=r"value for 'n' must be an integer"):
        parse_synthetic_spec("synthetic:n=2.5")
    with pytest.raises(
        ValueError, match=r"^n and d asks for .* GiB, more than the .* GiB of memory available"
    ):
        load_data("synthetic:n=1e11")
