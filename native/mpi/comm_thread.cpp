// The MPI thread: initialisation, the job queue, finalisation (see comm_thread.hpp).
#include "comm_thread.hpp"

#include <mpi.h>

namespace axmpi {

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(len));
}

WorldInfo CommThread::start() {
  thread_ = std::thread([this] { loop(); });
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return ready_; });
  return info_;
}

void CommThread::post(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void CommThread::finalize() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CommThread::loop() {
  int provided = 0;
  int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (rc != MPI_SUCCESS) {
      info_.error = "MPI_Init_thread failed: " + mpiError(rc);
    } else {
      // Errors come back as codes (turned into rejected promises), not as an abort of the job.
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      MPI_Comm_rank(MPI_COMM_WORLD, &info_.rank);
      MPI_Comm_size(MPI_COMM_WORLD, &info_.size);
      info_.threadLevel = provided;
    }
    ready_ = true;
  }
  cv_.notify_all();
  if (rc != MPI_SUCCESS) return;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) break;  // stopping, and every queued job has run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
  MPI_Finalize();
}

}  // namespace axmpi
