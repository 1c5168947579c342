//! Safe single-threaded f32 matrix products on row-major slices (matrixmultiply's sgemm).

/// `c (m×n) = a (m×k) · b`, where `b` is `k×n` row-major, or its transpose when `b_transposed`
/// (then the slice holds `n×k` row-major, PyTorch's weight layout). Panics on wrong lengths.
pub fn matmul(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    b_transposed: bool,
) {
    assert_eq!(a.len(), m * k, "lhs shape");
    assert_eq!(b.len(), k * n, "rhs shape");
    assert_eq!(c.len(), m * n, "output shape");
    let (rsb, csb) = if b_transposed { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the lengths checked above cover every index sgemm touches: a is m×k with row
    // stride k, b is k×n with strides (rsb, csb) inside k·n elements, c is m×n with row
    // stride n; c does not alias a or b (distinct borrows).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            rsb,
            csb,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::matmul;

    #[test]
    fn matches_naive_product_both_layouts() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let mut c = vec![0.0; m * n];
        let mut ct = vec![0.0; m * n];
        matmul(&a, &b, &mut c, m, k, n, false);
        matmul(&a, &bt, &mut ct, m, k, n, true);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                assert!((c[i * n + j] - want).abs() < 1e-5 && (ct[i * n + j] - want).abs() < 1e-5);
            }
        }
    }
}
